/// The second stage of the pipeline: cuts normalized text into pieces ("words") that the model
/// encodes independently, so no token ever spans two pieces.
///
/// Pieces are slices of one scalar buffer, so splitting allocates nothing per piece. A stage
/// that must rewrite text (Metaspace turns spaces into "▁") builds a new buffer and slices it.
protocol PreTokenizer: Sendable {
    /// Splits `text` and appends its pieces, in order, to `pieces`. The pieces of a scanner
    /// concatenate back to `text`; rewriting stages document what they change.
    /// `startsText` is true when `text` begins at the start of the whole input (Metaspace's
    /// "first" prepend scheme adds its "▁" only there).
    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    )
}

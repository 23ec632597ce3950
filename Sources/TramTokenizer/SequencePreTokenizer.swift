/// Stages applied in order, each to every piece of the one before (tokenizer.json `Sequence`).
struct SequencePreTokenizer: PreTokenizer {
    var stages: [any PreTokenizer]

    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        var current: [ArraySlice<Unicode.Scalar>] = [text]
        var next: [ArraySlice<Unicode.Scalar>] = []
        for stage in stages {
            next.removeAll(keepingCapacity: true)
            for (index, piece) in current.enumerated() {
                stage.split(piece, startsText: startsText && index == 0, into: &next)
            }
            swap(&current, &next)
        }
        pieces.append(contentsOf: current)
    }
}

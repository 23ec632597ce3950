import Logging

/// What an architecture's loader needs besides the files, passed from `ModelLoader` through the
/// registry: the precision to compute in and, for online quantization, the threads it may use
/// and where it reports progress.
struct LoadOptions {
    var precision: WeightPrecision
    /// Threads for load-time work (at least 1).
    var threads: Int
    var logger: Logger
}

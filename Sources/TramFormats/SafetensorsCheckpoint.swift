import Foundation

/// All safetensors shards of a Hugging Face model directory, addressed by tensor name.
///
/// A directory holds either one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`{"weight_map": {tensor name: shard file}}`), or — for
/// checkpoints without an index — any `*.safetensors` files, whose names must not collide.
public final class SafetensorsCheckpoint: Sendable {
    public let directory: String
    public let shards: [SafetensorsFile]
    private let location: [String: Int]

    public init(directory: String) throws(FormatError) {
        self.directory = directory
        let url = URL(fileURLWithPath: directory)
        let indexURL = url.appendingPathComponent("model.safetensors.index.json")
        var shardNames: [String]
        if FileManager.default.fileExists(atPath: indexURL.path) {
            let data: Data
            do { data = try Data(contentsOf: indexURL) } catch {
                throw .cannotOpen(path: indexURL.path, reason: error.localizedDescription)
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let weightMap = object["weight_map"] as? [String: String]
            else { throw .invalidJSON(path: indexURL.path, reason: "expected an object with a \"weight_map\" of strings") }
            shardNames = Array(Set(weightMap.values)).sorted()
        } else {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            shardNames = names.filter { $0.hasSuffix(".safetensors") }.sorted()
        }
        guard !shardNames.isEmpty else { throw .cannotOpen(path: directory, reason: "no *.safetensors files in the directory") }
        var shards: [SafetensorsFile] = []
        var location: [String: Int] = [:]
        for name in shardNames {
            guard !name.contains("/"), !name.hasPrefix("..") else {
                throw .invalidJSON(path: indexURL.path, reason: "shard name '\(name)' leaves the model directory")
            }
            let shard = try SafetensorsFile(path: url.appendingPathComponent(name).path)
            for tensorName in shard.tensors.keys {
                guard location[tensorName] == nil else {
                    throw .invalidSafetensors(path: shard.path, reason: "tensor '\(tensorName)' also appears in another shard")
                }
                location[tensorName] = shards.count
            }
            shards.append(shard)
        }
        self.shards = shards
        self.location = location
    }

    public var tensorNames: [String] { location.keys.sorted() }

    public func tensor(named name: String) -> (file: SafetensorsFile, info: SafetensorsFile.TensorInfo)? {
        guard let i = location[name], let info = shards[i].tensors[name] else { return nil }
        return (shards[i], info)
    }
}

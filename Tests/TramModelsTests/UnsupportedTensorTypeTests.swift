import Foundation
import Testing
import TramFormats
import TramKernels
import TramModels
import TramTestSupport

/// A GGUF whose tensors include a type Tram does not compute with (the IQ2/IQ3/IQ4_XS families,
/// TQ, MXFP4) is refused at load with the tensor's name and the type's name, not with a crash
/// or an unknown-type number.
@Suite struct UnsupportedTensorTypeTests {
    @Test(arguments: [GGMLType.iq4_xs, .iq2_xxs, .iq3_s, .tq2_0, .mxfp4])
    func loadNamesTheTensorAndItsType(_ type: GGMLType) throws {
        let source = try GGUFFile(path: TestResources.realModelPath())
        let arch = try source.string("general.architecture")
        var writer = GGUFWriter()
        for key in source.metadataKeys where key != "general.alignment" {
            writer.add(key, key == "\(arch).block_count" ? .uint32(1) : source.metadata[key]!)
        }
        for t in source.tensors {
            if t.name.hasPrefix("blk."), let n = Int(t.name.split(separator: ".")[1]), n >= 1 { continue }
            if t.name == "blk.0.ffn_down.weight" {
                let bytes = try #require(type.byteCount(elements: t.elementCount))
                writer.addTensor(t.name, dimensions: t.dimensions, type: type, bytes: Data(count: bytes))
            } else {
                writer.addTensor(t.name, dimensions: t.dimensions, type: t.type, bytes: Data(bytes: source.data(for: t), count: t.byteCount))
            }
        }
        let url = try TestResources.temporaryDirectory().appendingPathComponent("one-layer-\(type.name).gguf")
        try writer.encoded().write(to: url)
        #expect(DataType(ggmlTypeID: type.id) == nil)
        do {
            _ = try ModelLoader.load(path: url.path)
            Issue.record("a \(type.name) tensor must be refused")
        } catch {
            #expect(error.description.contains("blk.0.ffn_down.weight") && error.description.contains(type.name), "\(error.description)")
        }
    }
}

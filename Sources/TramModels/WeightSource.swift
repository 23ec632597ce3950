import TramFormats
import TramKernels

/// Where a model's tensors come from, so one architecture file loads from either format.
/// Names are the loader's logical names (`TensorName`), mapped to each format's spelling.
protocol WeightSource {
    var path: String { get }
    func has(_ name: TensorName) -> Bool
    /// A 2-D weight `[outFeatures, inFeatures]`, kept in its stored format (no copy).
    func matrix(_ name: TensorName) throws(ModelError) -> WeightMatrix
    /// A 1-D tensor (norm weight, bias) converted to f32.
    func vector(_ name: TensorName) throws(ModelError) -> [Float]
}

extension WeightSource {
    /// A 2-D weight that must have shape `[rows, columns]`.
    func matrix(_ name: TensorName, rows: Int, columns: Int) throws(ModelError) -> WeightMatrix {
        let w = try matrix(name)
        guard w.rows == rows, w.columns == columns else {
            throw .format(.badTensor(path: path, tensor: name.description, reason: "shape [\(w.rows), \(w.columns)], expected [\(rows), \(columns)]"))
        }
        return w
    }

    /// A 1-D tensor that must have `count` elements, as f32.
    func vector(_ name: TensorName, count: Int) throws(ModelError) -> [Float] {
        let v = try vector(name)
        guard v.count == count else {
            throw .format(.badTensor(path: path, tensor: name.description, reason: "\(v.count) elements, expected \(count)"))
        }
        return v
    }
}

/// Logical tensor names of the architectures, each mapped to its GGUF and Hugging Face spelling.
///
/// Gemma 3 has four norms per layer where Llama has two, and Hugging Face's names collide:
/// Gemma's `post_attention_layernorm` normalizes the attention's output (GGUF
/// `post_attention_norm`), while Llama's normalizes the MLP's input (GGUF `ffn_norm`), which
/// Gemma calls `pre_feedforward_layernorm`. So the Gemma norms are cases of their own.
enum TensorName: Hashable, CustomStringConvertible {
    case tokenEmbedding, outputNorm, output
    case attentionNorm(Int), q(Int), k(Int), v(Int), o(Int), qBias(Int), kBias(Int), vBias(Int)
    case ffnNorm(Int), gate(Int), up(Int), down(Int)
    case ropeFrequencies
    /// Gemma 3: RMSNorm over each q / k head, the norm after attention, the norms around the MLP.
    case qNorm(Int), kNorm(Int), postAttentionNorm(Int), preFeedforwardNorm(Int), postFeedforwardNorm(Int)

    var gguf: String {
        switch self {
        case .tokenEmbedding: "token_embd.weight"
        case .outputNorm: "output_norm.weight"
        case .output: "output.weight"
        case .ropeFrequencies: "rope_freqs.weight"
        case let .attentionNorm(i): "blk.\(i).attn_norm.weight"
        case let .q(i): "blk.\(i).attn_q.weight"
        case let .k(i): "blk.\(i).attn_k.weight"
        case let .v(i): "blk.\(i).attn_v.weight"
        case let .o(i): "blk.\(i).attn_output.weight"
        case let .qBias(i): "blk.\(i).attn_q.bias"
        case let .kBias(i): "blk.\(i).attn_k.bias"
        case let .vBias(i): "blk.\(i).attn_v.bias"
        case let .ffnNorm(i): "blk.\(i).ffn_norm.weight"
        case let .gate(i): "blk.\(i).ffn_gate.weight"
        case let .up(i): "blk.\(i).ffn_up.weight"
        case let .down(i): "blk.\(i).ffn_down.weight"
        case let .qNorm(i): "blk.\(i).attn_q_norm.weight"
        case let .kNorm(i): "blk.\(i).attn_k_norm.weight"
        case let .postAttentionNorm(i): "blk.\(i).post_attention_norm.weight"
        case let .preFeedforwardNorm(i): "blk.\(i).ffn_norm.weight"
        case let .postFeedforwardNorm(i): "blk.\(i).post_ffw_norm.weight"
        }
    }

    var huggingFace: String {
        switch self {
        case .tokenEmbedding: "model.embed_tokens.weight"
        case .outputNorm: "model.norm.weight"
        case .output: "lm_head.weight"
        case .ropeFrequencies: "rope_freqs.weight"
        case let .attentionNorm(i): "model.layers.\(i).input_layernorm.weight"
        case let .q(i): "model.layers.\(i).self_attn.q_proj.weight"
        case let .k(i): "model.layers.\(i).self_attn.k_proj.weight"
        case let .v(i): "model.layers.\(i).self_attn.v_proj.weight"
        case let .o(i): "model.layers.\(i).self_attn.o_proj.weight"
        case let .qBias(i): "model.layers.\(i).self_attn.q_proj.bias"
        case let .kBias(i): "model.layers.\(i).self_attn.k_proj.bias"
        case let .vBias(i): "model.layers.\(i).self_attn.v_proj.bias"
        case let .ffnNorm(i): "model.layers.\(i).post_attention_layernorm.weight"
        case let .gate(i): "model.layers.\(i).mlp.gate_proj.weight"
        case let .up(i): "model.layers.\(i).mlp.up_proj.weight"
        case let .down(i): "model.layers.\(i).mlp.down_proj.weight"
        case let .qNorm(i): "model.layers.\(i).self_attn.q_norm.weight"
        case let .kNorm(i): "model.layers.\(i).self_attn.k_norm.weight"
        case let .postAttentionNorm(i): "model.layers.\(i).post_attention_layernorm.weight"
        case let .preFeedforwardNorm(i): "model.layers.\(i).pre_feedforward_layernorm.weight"
        case let .postFeedforwardNorm(i): "model.layers.\(i).post_feedforward_layernorm.weight"
        }
    }

    var description: String { gguf }
}

struct GGUFWeightSource: WeightSource {
    let file: GGUFFile
    var path: String { file.path }

    func has(_ name: TensorName) -> Bool { file.tensor(named: name.gguf) != nil }

    func matrix(_ name: TensorName) throws(ModelError) -> WeightMatrix {
        let info = try tensor(name)
        guard info.dimensions.count == 2 else {
            throw .format(.badTensor(path: path, tensor: info.name, reason: "expected 2 dimensions, found \(info.dimensions)"))
        }
        guard let type = DataType(ggmlTypeID: info.type.id) else {
            throw .format(.badTensor(path: path, tensor: info.name, reason: "type \(info.type.name) is not supported for computation yet"))
        }
        return WeightMatrix(type: type, rows: info.rows, columns: info.columns, data: file.data(for: info), owner: file)
    }

    func vector(_ name: TensorName) throws(ModelError) -> [Float] {
        let info = try tensor(name)
        guard let type = DataType(ggmlTypeID: info.type.id), type.blockElements == 1 || info.elementCount % type.blockElements == 0 else {
            throw .format(.badTensor(path: path, tensor: info.name, reason: "type \(info.type.name) is not supported"))
        }
        var out = [Float](repeating: 0, count: info.elementCount)
        out.withUnsafeMutableBufferPointer { dequantize(type, file.data(for: info), $0.baseAddress!, count: info.elementCount) }
        return out
    }

    private func tensor(_ name: TensorName) throws(ModelError) -> GGUFTensorInfo {
        guard let t = file.tensor(named: name.gguf) else { throw .format(.missingTensor(path: path, tensor: name.gguf)) }
        return t
    }
}

struct SafetensorsWeightSource: WeightSource {
    let checkpoint: SafetensorsCheckpoint
    var path: String { checkpoint.directory }

    func has(_ name: TensorName) -> Bool { checkpoint.tensor(named: name.huggingFace) != nil }

    func matrix(_ name: TensorName) throws(ModelError) -> WeightMatrix {
        let (file, info) = try tensor(name)
        guard info.shape.count == 2 else {
            throw .format(.badTensor(path: file.path, tensor: info.name, reason: "expected 2 dimensions, found \(info.shape)"))
        }
        return WeightMatrix(type: try dataType(info, file), rows: info.shape[0], columns: info.shape[1], data: file.data(for: info), owner: file)
    }

    func vector(_ name: TensorName) throws(ModelError) -> [Float] {
        let (file, info) = try tensor(name)
        let type = try dataType(info, file)
        var out = [Float](repeating: 0, count: info.elementCount)
        out.withUnsafeMutableBufferPointer { dequantize(type, file.data(for: info), $0.baseAddress!, count: info.elementCount) }
        return out
    }

    private func dataType(_ info: SafetensorsFile.TensorInfo, _ file: SafetensorsFile) throws(ModelError) -> DataType {
        switch info.dtype {
        case "F32": return .f32
        case "F16": return .f16
        case "BF16": return .bf16
        default: throw .format(.badTensor(path: file.path, tensor: info.name, reason: "dtype \(info.dtype) is not supported (F32, F16, BF16 are)"))
        }
    }

    private func tensor(_ name: TensorName) throws(ModelError) -> (SafetensorsFile, SafetensorsFile.TensorInfo) {
        guard let t = checkpoint.tensor(named: name.huggingFace) else {
            throw .format(.missingTensor(path: path, tensor: name.huggingFace))
        }
        return t
    }
}

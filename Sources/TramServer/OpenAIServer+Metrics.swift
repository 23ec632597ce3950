import Hummingbird

extension OpenAIServer {
    /// `GET /metrics`: the Prometheus text exposition. Like `/health`, it needs no API key.
    func prometheus(_ metrics: EngineMetrics) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: metrics.render(modelName: modelName))))
    }
}

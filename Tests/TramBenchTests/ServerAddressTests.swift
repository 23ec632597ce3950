import Testing
import TramBench

struct ServerAddressTests {
    @Test func parsesBaseURLs() throws {
        #expect(try ServerAddress(baseURL: "http://127.0.0.1:8123") == ServerAddress(host: "127.0.0.1", port: 8123))
        #expect(try ServerAddress(baseURL: "http://localhost") == ServerAddress(host: "localhost", port: 80))
        let prefixed = try ServerAddress(baseURL: "http://[::1]:9000/api/")
        #expect(prefixed == ServerAddress(host: "::1", port: 9000, pathPrefix: "/api"))
        #expect(prefixed.path("/v1/completions") == "/api/v1/completions")
        #expect(prefixed.url("/v1/models") == "http://[::1]:9000/api/v1/models")
    }

    @Test(arguments: ["https://example.com", "127.0.0.1:8000", "http://", "ftp://host", "http://host:99999"])
    func rejects(_ url: String) {
        #expect(throws: BenchError.self) { try ServerAddress(baseURL: url) }
    }
}

import Testing
import TramServer

@Test func serverErrorsCompare() {
    #expect(ServerError.unauthorized == ServerError.unauthorized)
}

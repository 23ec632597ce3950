import TramRandom

/// What a run produced: one output per request, in request order, and the wall time from the
/// first scheduled send to the last response.
package struct BenchmarkRun: Sendable {
    package var outputs: [RequestOutput]
    package var duration: Double

    package init(outputs: [RequestOutput], duration: Double) {
        self.outputs = outputs
        self.duration = duration
    }
}

/// Runs the load: every request at its scheduled arrival time (`ArrivalSchedule`), each waiting for a slot when
/// `maxConcurrency` is set. Requests run concurrently; their outputs are gathered as they finish.
package struct BenchmarkRunner: Sendable {
    package var sender: RequestSender
    package var requestRate: Double
    package var burstiness: Double
    package var maxConcurrency: Int?
    /// Seeds the arrival times.
    package var seed: UInt64

    package init(sender: RequestSender, requestRate: Double = .infinity, burstiness: Double = 1, maxConcurrency: Int? = nil, seed: UInt64 = 0) {
        self.sender = sender
        self.requestRate = requestRate
        self.burstiness = burstiness
        self.maxConcurrency = maxConcurrency
        self.seed = seed
    }

    /// Sends `warmups` all together (within `maxConcurrency`) and waits for them; nothing of
    /// them is measured. Returns how many failed.
    package func warmUp(_ warmups: [SampleRequest]) async -> Int {
        let outputs = await send(warmups, at: Array(repeating: 0, count: warmups.count), from: ContinuousClock.now) { _ in }
        return outputs.filter { !$0.success }.count
    }

    /// Runs `requests` on schedule, calling `progress` with the number finished so far after
    /// each one.
    package func run(_ requests: [SampleRequest], progress: (Int) -> Void = { _ in }) async -> BenchmarkRun {
        let clock = ContinuousClock()
        var generator = Xoshiro256(seed: seed)
        let offsets = ArrivalSchedule.offsets(count: requests.count, requestRate: requestRate, burstiness: burstiness, using: &generator)
        let start = clock.now
        let outputs = await send(requests, at: offsets, from: start, progress: progress)
        return BenchmarkRun(outputs: outputs, duration: seconds(clock.now - start))
    }

    /// Sends request i at `start + offsets[i]` and returns the outputs in request order.
    func send(_ requests: [SampleRequest], at offsets: [Double], from start: ContinuousClock.Instant, progress: (Int) -> Void) async -> [RequestOutput] {
        var sender = self.sender
        sender.origin = start
        let requestSender = sender
        let limiter = maxConcurrency.map { ConcurrencyLimiter(limit: $0) }
        let (finished, continuation) = AsyncStream.makeStream(of: (Int, RequestOutput).self)
        async let dispatched: Void = withTaskGroup(of: Void.self) { group in
            for (i, request) in requests.enumerated() {
                if offsets[i] > 0 { try? await Task.sleep(until: start + .seconds(offsets[i]), clock: .continuous) }
                group.addTask {
                    await limiter?.acquire()
                    let output = await requestSender.send(request)
                    await limiter?.release()
                    continuation.yield((i, output))
                }
            }
            await group.waitForAll()
            continuation.finish()
        }
        var outputs = requests.map { RequestOutput(promptLen: $0.promptLen) }
        var done = 0
        for await (i, output) in finished {
            outputs[i] = output
            done += 1
            progress(done)
        }
        await dispatched
        return outputs
    }
}

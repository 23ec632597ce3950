import Testing
import TramServer

@Suite struct PrometheusTextTests {
    @Test func writesGaugesCountersAndCumulativeHistograms() {
        var h = Histogram(bounds: [0.5, 1, 2.5])
        for v in [0.25, 0.5, 0.75, 3, 2] { h.observe(v) }
        var out = PrometheusText()
        out.gauge("tram:g", help: "A gauge.", [(["model_name": "m"], 0.25)])
        out.counter("tram:c", help: "A counter.", [
            (["model_name": "m", "finished_reason": "stop"], 3),
            (["model_name": "m", "finished_reason": "abort"], 0),
        ])
        out.histogram("tram:h_seconds", help: "A histogram.", [(["model_name": "m"], h)])
        #expect(out.text == """
            # HELP tram:g A gauge.
            # TYPE tram:g gauge
            tram:g{model_name="m"} 0.25
            # HELP tram:c_total A counter.
            # TYPE tram:c_total counter
            tram:c_total{finished_reason="stop",model_name="m"} 3.0
            tram:c_total{finished_reason="abort",model_name="m"} 0.0
            # HELP tram:h_seconds A histogram.
            # TYPE tram:h_seconds histogram
            tram:h_seconds_bucket{le="0.5",model_name="m"} 2.0
            tram:h_seconds_bucket{le="1.0",model_name="m"} 3.0
            tram:h_seconds_bucket{le="2.5",model_name="m"} 4.0
            tram:h_seconds_bucket{le="+Inf",model_name="m"} 5.0
            tram:h_seconds_count{model_name="m"} 5.0
            tram:h_seconds_sum{model_name="m"} 6.5

            """)
    }

    @Test func escapesLabelValuesAndHelp() {
        var out = PrometheusText()
        out.gauge("x", help: "back\\slash\nnewline", [(["a": "q\"uote", "b": "back\\slash", "c": "new\nline"], 1)])
        out.gauge("y", help: "No labels.", [([:], -2)])
        #expect(out.text == #"""
            # HELP x back\\slash\nnewline
            # TYPE x gauge
            x{a="q\"uote",b="back\\slash",c="new\nline"} 1.0
            # HELP y No labels.
            # TYPE y gauge
            y -2.0

            """#)
    }

    @Test(arguments: [
        (0.0, "0.0"), (1, "1.0"), (0.25, "0.25"), (16384, "16384.0"), (123456, "123456.0"), (1e-05, "1e-05"),
        (1_000_000, "1e+06"), (1_234_567, "1.234567e+06"), (12_345_678.5, "1.23456785e+07"),
        (.infinity, "+Inf"), (-.infinity, "-Inf"), (.nan, "NaN"),
    ])
    func formatsNumbersAsPrometheusClient(value: Double, text: String) {
        #expect(PrometheusText.format(value) == text)
    }

    @Test func histogramBucketsIncludeTheirUpperBound() {
        var h = Histogram(bounds: [1, 8, 16])
        for v in [1.0, 8, 8.5, 16, 17, 0] { h.observe(v) }
        #expect(h.counts == [2, 1, 2, 1])
        #expect(h.count == 6 && h.sum == 50.5)
    }
}

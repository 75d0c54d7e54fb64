import Testing

@testable import KernelBench

@Suite struct BLASInfoTests {
    @Test func reportsTheLinkedOpenBLAS() {
        let info = BLASInfo.current()
        #expect(info.config.hasPrefix("OpenBLAS"), "openblas_get_config() returned \(info.config)")
        #expect(!info.coreName.isEmpty)
        #expect(info.threads >= 1)
        #expect(["sequential", "pthreads", "openmp"].contains(info.parallel))
    }
}

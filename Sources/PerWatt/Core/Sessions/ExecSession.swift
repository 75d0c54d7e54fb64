import PowerProbe

/// `perwatt exec`: an optional idle baseline, then one command run from start to exit inside one
/// energy window. The command cannot be run twice, so an untrusted window is reported as such.
package struct ExecSession {
    package var command: [String]
    /// Send the command's stdout to stderr (stdout carries JSON).
    package var stdoutToStderr: Bool
    package var idleSeconds: Double
    /// The sampling interval asked for, recorded beside the one used.
    package var requestedIntervalSeconds: Double

    package init(command: [String], stdoutToStderr: Bool, idleSeconds: Double, requestedIntervalSeconds: Double) {
        self.command = command
        self.stdoutToStderr = stdoutToStderr
        self.idleSeconds = idleSeconds
        self.requestedIntervalSeconds = requestedIntervalSeconds
    }

    /// Runs the command with SIGINT and SIGQUIT ignored here (they reach the command). `notice` is told
    /// when an idle baseline was asked for but could not be measured. A command that cannot be started
    /// is the spawn error, with nothing measured.
    package func run(
        meter: EnergyMeter?, noneReason: String?, fingerprint: Fingerprint,
        notice: (String) -> Void
    ) -> Result<ExecReport, POSIX.SpawnError> {
        meter?.start()
        var idle: IdleBaseline?
        if let meter, idleSeconds > 0 {
            idle = IdleBaseline.measure(with: meter, seconds: idleSeconds)
            if idle == nil {
                notice(
                    "the idle baseline could not be measured (a basis counter failed, or every idle window was untrusted); reporting gross energy only."
                )
            }
        }
        let restoreSignals = POSIX.ignoreInterrupts()
        let mark = meter?.beginWindow()
        let start = POSIX.monotonicSeconds()
        let pid: Int32
        switch POSIX.spawn(command, stdoutToStderr: stdoutToStderr) {
        case .success(let child): pid = child
        case .failure(let error):
            restoreSignals()
            meter?.stop()
            return .failure(error)
        }
        let termination = POSIX.wait(pid)
        let duration = POSIX.monotonicSeconds() - start
        let window = mark.flatMap { meter?.endWindow($0) }
        restoreSignals()
        let statistics = meter?.stop()

        var report = ExecReport(
            command: command, exitStatus: termination.shellStatus, terminatedBySignal: nil,
            durationSeconds: window?.durationSeconds ?? duration, energy: nil,
            energyUnavailableReason: noneReason, sampler: nil, fingerprint: fingerprint)
        if case .signaled(let signal) = termination { report.terminatedBySignal = signal }
        if let window {
            report.energy = EnergyRecord(window, channels: .full, idle: idle, describing: true, trace: true)
        }
        if let statistics {
            report.sampler = ExecReport.Sampler(
                intervalSeconds: statistics.intervalSeconds,
                requestedIntervalSeconds: requestedIntervalSeconds, samples: statistics.samples,
                cpuSeconds: statistics.cpuSeconds, wallSeconds: statistics.wallSeconds,
                coreFraction: statistics.coreFraction,
                meanReadMicroseconds: statistics.meanReadMicroseconds)
        }
        return .success(report)
    }
}

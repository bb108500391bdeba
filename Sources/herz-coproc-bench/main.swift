import Logging

// herz-coproc-bench: the coprocessor call round trip measured three ways (bench/README.md,
// "Coprocessor round trip"). `run` is the driver; the other subcommands are the servers it spawns.
// Logs go to stderr: stdout carries only the report.
LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
CoprocBench.main()

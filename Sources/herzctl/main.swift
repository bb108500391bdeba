// Entry point: dispatch to the subcommand named on the command line.
HerzCtl.main()

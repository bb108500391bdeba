// Entry point: parse the command line and run the server until killed.
DemoUpstreamCommand.main()

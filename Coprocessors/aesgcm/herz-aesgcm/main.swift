AESGCMCommand.main()

print("herz-kernel")

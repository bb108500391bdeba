print("herzctl")

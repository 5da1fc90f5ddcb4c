print("router-bench")

print("tram")

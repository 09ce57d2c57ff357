"""The model: the graph encoder (`encoder`), its loss (`loss`), schema linking (`linking`),
the one scorer (`scoring`), encoded tables (`index`) and model folders (`folder`).

The model never imports the data layer (`tablegraph.tables`, DuckDB): it reads graphs and
typed table nodes. Only `encoder` imports PyTorch Geometric, so that scoring questions against
a saved index loads neither PyG nor the text model.
"""

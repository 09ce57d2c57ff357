"""Table graphs: the typed nodes of a table (`nodes`: node kinds, `TableNodes`, `GraphConfig`)
and their PyTorch Geometric graphs (`build`). `nodes` imports neither torch nor the data
layer, so the model, linking and retrieval read nodes without loading either."""

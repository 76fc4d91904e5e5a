"""One module per ``protobench`` sub-command. Each exposes ``register(commands)``, which adds
its parser and sets ``run`` (a function of the parsed arguments returning an exit code)."""

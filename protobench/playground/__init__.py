"""`protobench ui`: a web playground that sends the same prediction over every protocol and shows
each exchange as it crossed the wire (gradio; the optional ``ui`` extra)."""

// GGUF, safetensors and config readers.

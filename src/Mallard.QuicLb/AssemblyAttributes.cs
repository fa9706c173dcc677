// Per-packet code uses small stackalloc buffers; each one is written (or cleared) before it is
// read, so the runtime's zero-initialisation would only cost time on the hot path.
[module: System.Runtime.CompilerServices.SkipLocalsInit]

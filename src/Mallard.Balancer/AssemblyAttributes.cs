// Per-packet buffers are written before they are read; zeroing stack frames is wasted work.
[module: System.Runtime.CompilerServices.SkipLocalsInit]

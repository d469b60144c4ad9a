"""gosched's runtime: Go's runtime package, file by file (see DESIGN.md, "Layout").

Nothing outside this package touches G, M or P fields; public modules use proc's small internal
API (getm, exitsyscall/entersyscall, gopark/goready, newproc) and sema.
"""

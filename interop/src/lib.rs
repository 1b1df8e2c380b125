//! The interop suite lives in `tests/`; see `README.md` beside this crate.

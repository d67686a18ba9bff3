//! The Cortex-M4 firmware demo will live here; nothing is implemented yet.

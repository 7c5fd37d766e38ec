//! UCI files (placeholder; being written).

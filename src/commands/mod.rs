//! What each subcommand does. main.rs only parses and dispatches.

pub mod client;
pub mod explain;

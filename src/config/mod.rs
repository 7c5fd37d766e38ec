//! Configuration read from the node: the Gluon site and the UCI files.

pub mod uci;

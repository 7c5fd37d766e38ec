//! The wgkex broker: where the node registers its key and, with API v2, is
//! told which gateway to use.

mod url;

pub use url::{Api, BrokerUrl};

/// What went wrong talking to the broker; the URL is carried by
/// [`crate::error::Error::Broker`].
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("{0}")]
    Url(String),
}

//! wgkex broker client (placeholder; being written).

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("placeholder")]
    Placeholder,
}

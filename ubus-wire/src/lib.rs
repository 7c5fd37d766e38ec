//! The ubus wire protocol (being written).

pub fn placeholder() {}

pub mod ubusd;

//! sea-orm entities of the domain, kept apart from the behaviour written around them.

pub mod service;

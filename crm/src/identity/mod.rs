//! Identity values that validate in their constructor.

mod contact;
mod fiscal_code;

pub use contact::{Email, Phone, search_key};
pub use fiscal_code::{FiscalCode, FiscalCodeError};

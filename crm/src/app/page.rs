//! Pages of a list, as every list use case takes them.

use crate::{Error, Result};

/// At most `first` items after the cursor `after` (the last item of the previous page).
#[derive(Clone, Copy, Debug)]
pub struct Page<C> {
    pub first: u64,
    pub after: Option<C>,
}

/// The largest page a list returns.
pub const MAX_PAGE: u64 = 100;

impl<C> Page<C> {
    /// A page of 1 to [`MAX_PAGE`] items; VALIDATION otherwise.
    pub fn new(first: i64, after: Option<C>) -> Result<Self> {
        if !(1..=MAX_PAGE as i64).contains(&first) {
            return Err(Error::Validation(format!(
                "first must be between 1 and {MAX_PAGE}"
            )));
        }
        Ok(Page {
            first: first as u64,
            after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_holds_one_to_a_hundred_items() {
        assert!(Page::<u8>::new(0, None).is_err());
        assert!(Page::<u8>::new(101, None).is_err());
        assert_eq!(
            Page::<u8>::new(100, Some(3)).expect("a page of 100").first,
            100
        );
    }
}

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

impl Page<u64> {
    /// The items of this page of `rows`, whose cursors are positions, and whether more
    /// follow: for short lists read whole.
    pub fn of_positions<T>(&self, rows: Vec<T>) -> (Vec<T>, bool) {
        let skip = self.after.unwrap_or(0) as usize;
        let more = rows.len() > skip + self.first as usize;
        let found = rows
            .into_iter()
            .skip(skip)
            .take(self.first as usize)
            .collect();
        (found, more)
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

    #[test]
    fn a_positioned_page_says_whether_more_follow() {
        let p = Page::new(2, Some(1u64)).expect("a page");
        assert_eq!(p.of_positions(vec![1, 2, 3, 4]), (vec![2, 3], true));
        assert_eq!(p.of_positions(vec![1, 2, 3]), (vec![2, 3], false));
    }
}

//! The typed lifecycle of a case, enforced here and nowhere else.

use crate::Error;
use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    #[default]
    New,
    Assigned,
    InProgress,
    WaitingCitizen,
    Resolved,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

civitas_tenants::string_enum!(CaseStatus {
    New => "new",
    Assigned => "assigned",
    InProgress => "in_progress",
    WaitingCitizen => "waiting_citizen",
    Resolved => "resolved",
    Closed => "closed",
});
civitas_tenants::string_enum!(Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" });

impl CaseStatus {
    /// The statuses a case may move to from this one. `Resolved -> InProgress` is a reopening.
    pub fn next(self) -> &'static [CaseStatus] {
        use CaseStatus::*;
        match self {
            New => &[Assigned, InProgress],
            Assigned => &[InProgress],
            InProgress => &[WaitingCitizen, Resolved],
            WaitingCitizen => &[InProgress, Resolved],
            Resolved => &[Closed, InProgress],
            Closed => &[],
        }
    }

    pub fn can_become(self, to: CaseStatus) -> bool {
        self.next().contains(&to)
    }

    /// Still in someone's hands: counts towards SLAs and open-case figures.
    /// Past `due_at` at `now` and still open.
    pub fn is_overdue(
        self,
        due_at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        self.is_open() && due_at < now
    }

    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }

    /// Checks a move, with the error a client sees for an illegal one.
    pub fn check_move(self, to: CaseStatus) -> Result<(), Error> {
        if self.can_become(to) {
            Ok(())
        } else {
            let allowed: Vec<&str> = self.next().iter().map(|s| s.as_str()).collect();
            Err(Error::Validation(format!(
                "a {self} case cannot become {to} (allowed: {})",
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(", ")
                }
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CaseStatus::{self, *};

    #[test]
    fn every_status_moves_only_where_next_says() {
        for from in CaseStatus::ALL {
            for to in CaseStatus::ALL {
                assert_eq!(
                    from.can_become(*to),
                    from.next().contains(to),
                    "{from} -> {to}"
                );
                assert_eq!(from.check_move(*to).is_ok(), from.can_become(*to));
            }
        }
    }

    #[test]
    fn the_lifecycle_is_the_documented_one() {
        assert_eq!(New.next(), [Assigned, InProgress]);
        assert!(
            Resolved.can_become(InProgress),
            "a resolved case may be reopened"
        );
        assert!(Closed.next().is_empty(), "a closed case stays closed");
        assert!(
            !New.can_become(Resolved),
            "no resolving without working on it"
        );
        let open: Vec<_> = CaseStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [&New, &Assigned, &InProgress, &WaitingCitizen]);
    }

    #[test]
    fn an_illegal_move_says_what_is_allowed() {
        let e = Closed
            .check_move(InProgress)
            .expect_err("closed")
            .to_string();
        assert!(e.contains("allowed: none"), "{e}");
        let e = New.check_move(Closed).expect_err("new").to_string();
        assert!(e.contains("assigned, in_progress"), "{e}");
    }

    #[test]
    fn only_an_open_case_past_its_due_time_is_overdue() {
        let due = chrono::Utc::now();
        let later = due + chrono::Duration::seconds(1);
        for status in CaseStatus::ALL {
            assert_eq!(status.is_overdue(due, later), status.is_open(), "{status}");
            assert!(!status.is_overdue(due, due), "{status}: due this instant");
        }
    }
}

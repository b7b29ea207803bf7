//! The ids of the domain's rows, each its own type.

use civitas_tenants::typed_id;

typed_id!(
    /// A person: one identity across every body (profiles in each body point at it).
    PersonId
);
typed_id!(
    /// A case (request, report, complaint) of one body.
    CaseId
);
typed_id!(
    /// A person's profile in one body.
    ProfileId
);
typed_id!(
    /// A sharing or privacy consent.
    ConsentId
);
typed_id!(
    /// A service of a body's catalogue.
    ServiceId
);
typed_id!(
    /// A recorded contact with a citizen.
    InteractionId
);
typed_id!(
    /// A citizen's delegation of a tutor.
    DelegationId
);
typed_id!(
    /// A file attached to a case.
    AttachmentId
);

//! Staff users (the vendor's people), as owners and actors.

use entity::staff_user;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::Caller;
use crate::error::ApiError;

/// A staff user, for staff callers only: partners never see who is who inside.
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<staff_user::Model>, ApiError> {
    if !caller.principal.is_staff() {
        return Ok(None);
    }
    Ok(staff_user::Entity::find_by_id(id).one(db).await?)
}

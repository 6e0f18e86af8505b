//! Enums whose values are stable codes (in the API and the database) with labels in both
//! languages.

/// Declares such an enum: `code()`, `label_zh()`, `label_en()`, `from_code()` (codes only: for
/// API fields and stored values) and `parse()` (a code or either label: for imported files). The
/// code is a `tt`, not a `literal`: derives (serde, utoipa) then see the plain string.
///
/// With the `db` feature the enum is also a database value stored as its code, so an entity's
/// column can have the enum's type and a row whose value is not one of the codes fails to load
/// instead of travelling on as a string.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:tt, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $code)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label_zh(self) -> &'static str { match self { $($name::$variant => $zh),+ } }
            pub fn label_en(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            pub fn label(self, english: bool) -> &'static str { if english { self.label_en() } else { self.label_zh() } }
            pub fn from_code(s: &str) -> Option<Self> { Self::ALL.iter().copied().find(|v| v.code() == s) }
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| {
                    v.code() == s || v.label_zh() == s || v.label_en().eq_ignore_ascii_case(s)
                })
            }
            /// Every code, for messages that list the choices.
            pub fn codes() -> Vec<&'static str> { Self::ALL.iter().map(|v| v.code()).collect() }
        }

        impl crate::Coded for $name {
            fn from_code(s: &str) -> Option<Self> { $name::from_code(s) }
            fn codes() -> Vec<&'static str> { $name::codes() }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.code()) }
        }

        #[cfg(feature = "db")]
        impl From<$name> for sea_orm::Value {
            fn from(v: $name) -> Self { sea_orm::Value::String(Some(v.code().to_owned())) }
        }

        #[cfg(feature = "db")]
        impl sea_orm::TryGetable for $name {
            fn try_get_by<I: sea_orm::ColIdx>(res: &sea_orm::QueryResult, idx: I) -> Result<Self, sea_orm::TryGetError> {
                let s = String::try_get_by(res, idx)?;
                $name::from_code(&s).ok_or_else(|| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(format!(
                        "{:?} is not a {}", s, stringify!($name)
                    )))
                })
            }
        }

        #[cfg(feature = "db")]
        impl sea_orm::sea_query::ValueType for $name {
            fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let s = <String as sea_orm::sea_query::ValueType>::try_from(v)?;
                $name::from_code(&s).ok_or(sea_orm::sea_query::ValueTypeErr)
            }
            fn type_name() -> String { stringify!($name).to_owned() }
            fn array_type() -> sea_orm::sea_query::ArrayType { sea_orm::sea_query::ArrayType::String }
            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }

        #[cfg(feature = "db")]
        impl sea_orm::sea_query::Nullable for $name {
            fn null() -> sea_orm::Value { sea_orm::Value::String(None) }
        }

        #[cfg(feature = "db")]
        impl sea_orm::IntoActiveValue<$name> for $name {
            fn into_active_value(self) -> sea_orm::ActiveValue<$name> { sea_orm::ActiveValue::Set(self) }
        }
    };
}

//! How far one of a user's permissions reaches, resolved against their department and person.
//! The store turns it into a condition inside its queries; the rules here ask the same question
//! of one record.

/// How far a read reaches, resolved from the caller's data scope and department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// A department and everything below it: its materialised path, such as `/1/4/`.
    Tree(String),
    /// One department only.
    Department(i64),
    /// One person only (`None`: the account is linked to no person, so nothing).
    Person(Option<i64>),
}

impl Scope {
    /// Whether a record about department `department_id` (whose path is `department_path`) and,
    /// where it names one, person `person_id` is within reach.
    pub fn covers(&self, department_id: i64, department_path: &str, person_id: Option<i64>) -> bool {
        match self {
            Scope::All => true,
            Scope::Tree(path) => department_path.starts_with(path.as_str()),
            Scope::Department(d) => *d == department_id,
            Scope::Person(p) => p.is_some() && *p == person_id,
        }
    }

    /// Whether a record about a department (and nobody in particular) is within reach.
    pub fn covers_department(&self, department_id: i64, department_path: &str) -> bool {
        !matches!(self, Scope::Person(_)) && self.covers(department_id, department_path, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach() {
        let tree = Scope::Tree("/1/4/".into());
        assert!(tree.covers(4, "/1/4/", None) && tree.covers(9, "/1/4/9/", Some(3)));
        assert!(!tree.covers(41, "/1/41/", None), "a sibling whose id starts the same is not below");
        assert!(Scope::Person(Some(3)).covers(9, "/1/4/9/", Some(3)));
        assert!(!Scope::Person(Some(3)).covers_department(9, "/1/4/9/"));
        assert!(!Scope::Person(None).covers(9, "/1/4/9/", None));
        assert!(Scope::Department(9).covers_department(9, "/1/4/9/") && !Scope::Department(9).covers(4, "/1/4/", None));
    }
}

package meta

import "fmt"

// PandoraRepoKey names a repo in errors.
func PandoraRepoKey(ak, repo string) string {
	return fmt.Sprintf("pandora repo %q of access key %q", repo, ak)
}

// PandoraSeriesKey names a series in errors.
func PandoraSeriesKey(ak, repo, name string) string {
	return fmt.Sprintf("pandora series %q of repo %q (access key %q)", name, repo, ak)
}

// PandoraViewKey names a view in errors.
func PandoraViewKey(ak, repo, name string) string {
	return fmt.Sprintf("pandora view %q of repo %q (access key %q)", name, repo, ak)
}

// Validate reports an ErrInvalid *Error when a key is empty.
func (kp PandoraKeyPair) Validate(op string) error {
	return required(op, fmt.Sprintf("pandora access key %q", kp.AccessKey), kp.AccessKey, "access key", kp.SecretKey, "secret key")
}

// Validate reports an ErrInvalid *Error when a required field is empty.
func (r PandoraRepo) Validate(op string) error {
	return required(op, PandoraRepoKey(r.AccessKey, r.Name), r.AccessKey, "access key", r.Name, "repo name", r.Region, "region")
}

// Validate reports an ErrInvalid *Error when a required field is empty.
func (s PandoraSeries) Validate(op string) error {
	key := PandoraSeriesKey(s.AccessKey, s.Repo, s.Name)
	switch {
	case s.AccessKey == "" || s.Repo == "" || s.Name == "":
		return invalid(op, key, "empty access key, repo or series name")
	case s.Retention == "":
		return invalid(op, key, "empty retention")
	}
	return nil
}

// Validate reports an ErrInvalid *Error when a required field is empty.
func (v PandoraView) Validate(op string) error {
	key := PandoraViewKey(v.AccessKey, v.Repo, v.Name)
	switch {
	case v.AccessKey == "" || v.Repo == "" || v.Name == "":
		return invalid(op, key, "empty access key, repo or view name")
	case v.SQL == "":
		return invalid(op, key, "empty SQL")
	}
	return nil
}

package httpapi

// The bodies of the write endpoints, one named type each, so that the
// decoding fuzz target (FuzzDecodeJSON) runs on exactly what the handlers
// decode (TestRequestBodiesAreFuzzed keeps the two in step).

type registerRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginRequest struct {
	Login    string `json:"login"`
	Username string `json:"username"`
	// Email is kept so that a client signing in by address is told why
	// that fails (a 422 on login) rather than "unknown field".
	Email    string `json:"email"`
	Password string `json:"password"`
}

type patchMeRequest struct {
	DisplayName *string `json:"display_name"`
	Bio         *string `json:"bio"`
	Locked      *bool   `json:"locked"`
}

type createAPIKeyRequest struct {
	Name   string    `json:"name"`
	Scopes *[]string `json:"scopes"`
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	KeepAPIKeys     bool   `json:"keep_api_keys"`
}

type deleteMeRequest struct {
	Password string `json:"password"`
}

type topFriendsRequest struct {
	Usernames *[]string `json:"usernames"`
}

type postThoughtRequest struct {
	Content        string  `json:"content"`
	ContentWarning string  `json:"content_warning"`
	Sensitive      bool    `json:"sensitive"`
	Visibility     string  `json:"visibility"`
	InReplyToID    *string `json:"in_reply_to_id"`
}

type editThoughtRequest struct {
	Content        *string `json:"content"`
	ContentWarning *string `json:"content_warning"`
	Sensitive      *bool   `json:"sensitive"`
}

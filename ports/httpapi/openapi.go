package httpapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// OpenAPIYAML is the OpenAPI 3.1 document of the client API, the contract the
// component tests hold every request and response to.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

var (
	openapiOnce sync.Once
	openapiDoc  *openapi3.T
	openapiJSON []byte
	openapiErr  error
)

// OpenAPI returns the parsed and validated document.
func OpenAPI() (*openapi3.T, error) {
	openapiOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(OpenAPIYAML)
		if err != nil {
			openapiErr = fmt.Errorf("load openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			openapiErr = fmt.Errorf("validate openapi.yaml: %w", err)
			return
		}
		openapiDoc = doc
		openapiJSON, openapiErr = json.Marshal(doc)
	})
	return openapiDoc, openapiErr
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	if _, err := OpenAPI(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openapiJSON)
}

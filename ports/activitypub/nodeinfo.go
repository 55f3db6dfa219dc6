package activitypub

import (
	"net/http"
	"time"
)

const (
	nodeInfoSchema21  = "http://nodeinfo.diaspora.software/ns/schema/2.1"
	nodeInfoStatsTTL  = 5 * time.Minute
	nodeInfoMediaType = `application/json; profile="` + nodeInfoSchema21 + `#"`
)

// nodeInfoLinks is /.well-known/nodeinfo: where the NodeInfo document is.
func (s *Server) nodeInfoLinks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"links": []jrdLink{{Rel: nodeInfoSchema21, Href: s.iris.Base + "/nodeinfo/2.1"}},
	})
}

type nodeInfo struct {
	Version           string           `json:"version"`
	Software          nodeInfoSoftware `json:"software"`
	Protocols         []string         `json:"protocols"`
	Services          nodeInfoServices `json:"services"`
	OpenRegistrations bool             `json:"openRegistrations"`
	Usage             nodeInfoUsage    `json:"usage"`
	Metadata          map[string]any   `json:"metadata"`
}

type nodeInfoSoftware struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Repository string `json:"repository,omitempty"`
}

type nodeInfoServices struct {
	Inbound  []string `json:"inbound"`
	Outbound []string `json:"outbound"`
}

type nodeInfoUsage struct {
	Users struct {
		Total          int `json:"total"`
		ActiveMonth    int `json:"activeMonth"`
		ActiveHalfyear int `json:"activeHalfyear"`
	} `json:"users"`
	LocalPosts int `json:"localPosts"`
}

// nodeInfo is the NodeInfo 2.1 document. Its counts are cached for a few
// minutes: crawlers fetch it often and counting is not free.
func (s *Server) nodeInfo(w http.ResponseWriter, r *http.Request) {
	usage, err := s.usage(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, nodeInfoMediaType, nodeInfo{
		Version:           "2.1",
		Software:          nodeInfoSoftware{Name: s.software.Name, Version: s.software.Version, Repository: s.software.Repository},
		Protocols:         []string{"activitypub"},
		Services:          nodeInfoServices{Inbound: []string{}, Outbound: []string{}},
		OpenRegistrations: s.openReg,
		Usage:             usage,
		Metadata:          map[string]any{"nodeName": s.public.Host},
	})
}

func (s *Server) usage(r *http.Request) (nodeInfoUsage, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	now := s.clock()
	if now.Before(s.statsExpires) {
		return s.stats, nil
	}
	st, err := s.fed.InstanceStats.Handle(r.Context())
	if err != nil {
		return nodeInfoUsage{}, err
	}
	var u nodeInfoUsage
	u.Users.Total, u.Users.ActiveMonth, u.Users.ActiveHalfyear = st.Users, st.ActiveMonth, st.ActiveHalfYear
	u.LocalPosts = st.LocalPosts
	s.stats, s.statsExpires = u, now.Add(nodeInfoStatsTTL)
	return u, nil
}

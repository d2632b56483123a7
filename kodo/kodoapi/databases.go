package kodoapi

// AddedDatabase is the answer of /v1/influx/add_db (whose parameters are
// query parameters). Token and Secret are set only when the call created
// a workspace for the database, and shown only then.
type AddedDatabase struct {
	DB            string `json:"db"`
	DBUUID        string `json:"dbUUID"`
	RP            string `json:"rp"`
	Secret        string `json:"secret,omitempty"`
	Token         string `json:"token,omitempty"`
	InstanceUUID  string `json:"uuid"`
	WorkspaceUUID string `json:"workspace_uuid"`
}

// ModifyDBRPRequest is the body of /v1/modify/dbrp: RPList entries are
// added, DefaultRP and CQRP replaced when set.
type ModifyDBRPRequest struct {
	DBUUID    string   `json:"db_uuid"`
	DefaultRP string   `json:"default_rp,omitempty"`
	CQRP      *string  `json:"cqrp,omitempty"`
	RPList    []string `json:"rp_list,omitempty"`
}

// DBRP is a database's retention-policy layout, the answer of
// /v1/modify/dbrp.
type DBRP struct {
	CQRP      string   `json:"cqrp"`
	DB        string   `json:"db"`
	DBUUID    string   `json:"db_uuid"`
	DefaultRP string   `json:"default_rp"`
	RPList    []string `json:"rp_list"`
}

// GetRPRequest is the body of /v1/measurement/get_rp. DB holds the
// db_uuid (as the API text shows); DBUUID is accepted too.
type GetRPRequest struct {
	Measurements []string `json:"measurements"`
	DB           string   `json:"db"`
	DBUUID       string   `json:"db_uuid,omitempty"`
}

// MeasurementRP is where a measurement is stored: the answer of
// /v1/measurement/get_rp maps each measurement asked to one. RP is "" for
// the database's default RP; Duration is the RP's as InfluxDB prints it.
type MeasurementRP struct {
	DB       string `json:"db"`
	RP       string `json:"rp"`
	Duration string `json:"duration"`
}

// DropMetricsRequest is the body of /v1/drop/metrics.
type DropMetricsRequest struct {
	Measurement string `json:"measurement"`
	DBUUID      string `json:"db_uuid"`
}

// CKTableRequest is the body of /v1/ck/read/metrics and /v1/ck/drop/metrics
// (TableName) and /v1/ck/create_db (DBUUID).
type CKTableRequest struct {
	DBUUID    string   `json:"db_uuid"`
	TableName string   `json:"table_name"`
	Command   string   `json:"command"`
	GroupBy   []string `json:"group_by"`
}

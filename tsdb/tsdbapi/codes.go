package tsdbapi

import "net/http"

// Code is a Pandora error code such as "E6100". Its HTTP status and the
// fixed text the API documents come from one table, codeTable.
type Code string

// The codes of the spec's error tables, plus the view codes the official Go
// SDK knows (the spec has no view section).
const (
	CodeInternal          Code = "E9001"
	CodeBadRequest        Code = "E6000"
	CodeNotFound          Code = "E6004"
	CodeInvalidRepoName   Code = "E6100"
	CodeRegionEmpty       Code = "E6101"
	CodeRepoExists        Code = "E6102"
	CodeRegionUnknown     Code = "E6103"
	CodeRepoDeleting      Code = "E6106"
	CodeRepoModifying     Code = "E6110"
	CodeRetentionUnknown  Code = "E6205"
	CodeInvalidSeriesName Code = "E6300"
	CodeSeriesKeyword     Code = "E6301"
	CodeSeriesExists      Code = "E6302"
	CodeSeriesNotFound    Code = "E6303"
	CodeSeriesDeleting    Code = "E6305"
	CodeSeriesModifying   Code = "E6307"
	CodeSeriesLimit       Code = "E6308"
	CodeInvalidViewName   Code = "E6400"
	CodeInvalidViewSQL    Code = "E6403"
	CodeViewNotFound      Code = "E6410"
	CodeViewExists        Code = "E6411"
	CodeInvalidSQL        Code = "E7200"
	CodeInvalidTimezone   Code = "E7202"
	CodeQueryTimeout      Code = "E7204"
	CodeExecuteSQL        Code = "E7212"
	CodeQueryInterrupted  Code = "E9002"
	// CodeBusy is not in the spec, which has no capacity answer: a gate of
	// the server is full (503 with Retry-After).
	CodeBusy Code = "E9003"
)

// codeInfo is the status and the documented message of a code.
type codeInfo struct {
	status int
	text   string
}

// codeTable is the single source of status and text for every code. The
// texts are the spec's, typos included, because clients match on them.
var codeTable = map[Code]codeInfo{
	CodeInternal:          {500, "server internal error"},
	CodeBadRequest:        {400, "Request data format not supplied as expected"},
	CodeNotFound:          {404, "The request resource not found"},
	CodeInvalidRepoName:   {400, "RepoName is limited between 1 and 128 characters, which the first charactor must be a letter and the others are letters, numbers and underlines!"},
	CodeRegionEmpty:       {400, "Region should not be empty!"},
	CodeRepoExists:        {400, "RepoName already exists, please use a new RepoName!"},
	CodeRegionUnknown:     {400, "Region does not exist!"},
	CodeRepoDeleting:      {400, "Resouce of the RepoName is in process of deleting, please wait a moment"},
	CodeRepoModifying:     {409, "Repo is currently modifying, please wait a moment"},
	CodeRetentionUnknown:  {404, "Retention does not exists"},
	CodeInvalidSeriesName: {400, "Series name is limited between 1 and 128 characters, which the first character must be a letter and the others are letters, numbers and underlines!"},
	CodeSeriesKeyword:     {400, "Series name contains key words, please rename!"},
	CodeSeriesExists:      {409, "Series already exists"},
	CodeSeriesNotFound:    {404, "Series does not exist"},
	CodeSeriesDeleting:    {400, "Series is in process of deleting, please wait a moment"},
	CodeSeriesModifying:   {409, "Series is currently modifying, please wait a moment"},
	CodeSeriesLimit:       {400, "Max Series number exceeded"},
	CodeInvalidViewName:   {400, "View name is limited between 1 and 128 characters, which the first character must be a letter and the others are letters, numbers and underlines!"},
	CodeInvalidViewSQL:    {400, "Invalid view sql"},
	CodeViewNotFound:      {404, "View does not exist"},
	CodeViewExists:        {409, "View already exists"},
	CodeInvalidSQL:        {400, "Invalid sql"},
	CodeInvalidTimezone:   {400, "Invalid time zone"},
	CodeQueryTimeout:      {400, "Query execution was interrupted, max execute time exceeded"},
	CodeExecuteSQL:        {400, "Execute Sql error"},
	CodeQueryInterrupted:  {500, "executor query chan closed without result error"},
	CodeBusy:              {503, "Server is busy, please retry after the Retry-After delay"},
}

// Status is the HTTP status the code is answered with.
func (c Code) Status() int {
	if info, ok := codeTable[c]; ok {
		return info.status
	}
	return http.StatusInternalServerError
}

// Text is the documented message of the code.
func (c Code) Text() string { return codeTable[c].text }

// BadToken is the body text of a 401: the spec's table gives it without a code.
const BadToken = "bad token"

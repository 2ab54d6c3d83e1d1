{{- define "gatefleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped base name; every object name below adds a suffix to it. */}}
{{- define "gatefleet.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else if contains (include "gatefleet.name" .) .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "gatefleet.name" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gatefleet.controller" -}}{{ include "gatefleet.fullname" . }}-controller{{- end -}}
{{- define "gatefleet.xdsService" -}}{{ include "gatefleet.fullname" . }}-xds{{- end -}}

{{- define "gatefleet.xdsSecret" -}}
{{- if .Values.xds.tls.secretName -}}
{{- .Values.xds.tls.secretName -}}
{{- else if .Values.xds.tls.generate -}}
{{- include "gatefleet.fullname" . }}-xds-tls
{{- else -}}
{{- fail "xds.tls.secretName is required when xds.tls.generate is false: the xDS server requires mTLS" -}}
{{- end -}}
{{- end -}}

{{- define "gatefleet.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "gatefleet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gatefleet
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{ include "gatefleet.selectorLabels" . }}
{{- end -}}

{{- define "gatefleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatefleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}
